"""Shared pytest fixtures."""
import pytest


@pytest.fixture(scope='session')
def demo_data(tmp_path_factory):
    """Root of the demo datasets, generated once per session with the generator's defaults.

    Layout (see ``mmvitx/datasets/demo.py``): ``coco/`` (instances + keypoints),
    ``ade/ADEChallengeData2016/`` and ``cityscapes/``; seed 0, 24 train / 8 val images each.
    """
    # Imported here so that a broken import fails only the tests that use the data.
    from mmvitx.datasets.demo import generate_demo_data

    root = tmp_path_factory.mktemp('demo_data')
    generate_demo_data(root)
    return root


@pytest.fixture
def warnings_logged():
    """The messages mmvitx logs at WARNING during the test (``mmvitx.testing.logs``)."""
    from mmvitx.testing.logs import logged_warnings
    with logged_warnings() as messages:
        yield messages
