from pathlib import Path

from setuptools import find_packages, setup

here = Path(__file__).parent


def read_requirements(name):
    lines = (here / 'requirements' / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith('#')]


setup(
    name='mmvitx',
    version='0.1.0',
    description='Vision-transformer backbones (HRFormer, FasterViT, MViT, PSViT) for mmdet, '
                'mmsegmentation and mmpose',
    long_description=(here / 'README.md').read_text() if (here / 'README.md').exists() else '',
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.10',
    packages=find_packages(include=['mmvitx', 'mmvitx.*']),
    # mmcv (built from source) and mmpose (installed --no-deps) are installed by tools/install.sh;
    # declaring them here would make pip try to resolve their broken metadata.
    install_requires=read_requirements('runtime.txt') + read_requirements('torch.txt'),
    extras_require={'tests': read_requirements('tests.txt')},
    zip_safe=False,
)
