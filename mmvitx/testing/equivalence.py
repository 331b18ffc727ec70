"""Whether a model computes the same with mmvitx's speed-up layer as with the plain torch ops
(:func:`mmvitx.models.layers.plain_ops`)."""
import copy

import torch

from ..models.layers import plain_ops


def flatten_tensors(outputs) -> list[torch.Tensor]:
    """The tensors in a model's outputs (a tensor, or lists, tuples and dicts of them), in order."""
    if isinstance(outputs, torch.Tensor):
        return [outputs]
    if isinstance(outputs, dict):
        outputs = list(outputs.values())
    if isinstance(outputs, (list, tuple)):
        return [tensor for output in outputs for tensor in flatten_tensors(output)]
    return []


def mmvitx_autograd_functions(tensors: list[torch.Tensor]) -> set[str]:
    """Names of the custom autograd functions of mmvitx in the backward graph of ``tensors``."""
    names, seen = set(), set()
    pending = [t.grad_fn for t in tensors]
    while pending:
        node = pending.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        function = getattr(node, '_forward_cls', None)  # set on custom functions' nodes only
        if function is not None and function.__module__.startswith('mmvitx.'):
            names.add(function.__name__)
        pending.extend(next_node for next_node, _ in node.next_functions)
    return names


def _run(model, inputs, seed):
    """Outputs without and with autograd, gradients of a random projection of the latter (by
    parameter name, then ``input{i}``), the state afterwards, and the mmvitx autograd functions
    in the graph."""
    inputs = [x.detach().clone().requires_grad_(x.is_floating_point()) for x in inputs]
    with torch.random.fork_rng():  # the same dropout and drop-path draws in both runs
        torch.manual_seed(seed)
        with torch.no_grad():
            inference = flatten_tensors(model(*inputs))
        outputs = flatten_tensors(model(*inputs))
    generator = torch.Generator().manual_seed(seed)
    loss = sum((out * torch.randn(out.shape, generator=generator, dtype=out.dtype).to(out.device)
                ).sum() for out in outputs)
    sources = {name: param for name, param in model.named_parameters() if param.requires_grad}
    sources.update((f'input{i}', x) for i, x in enumerate(inputs) if x.requires_grad)
    grads = torch.autograd.grad(loss, list(sources.values()), allow_unused=True)
    return dict(inference=inference, outputs=outputs, grads=dict(zip(sources, grads)),
                state=model.state_dict(), functions=mmvitx_autograd_functions(outputs))


def _assert_close(actual: dict, expected: dict, tolerance: float, scale: float | None = None):
    """Each tensor within ``tolerance`` times ``scale`` (default: its own largest magnitude),
    plus ``tolerance`` relative."""
    assert actual.keys() == expected.keys()
    for name, expected_value in expected.items():
        value = actual[name]
        if expected_value is None or value is None:
            assert value is expected_value, f'{name}: a gradient one way only'
            continue
        limits = {}  # exact for integers (BatchNorm counters)
        if expected_value.is_floating_point():
            largest = scale
            if largest is None:
                largest = expected_value.abs().amax().item() if expected_value.numel() else 0.
            limits = dict(atol=tolerance * largest, rtol=tolerance)
        torch.testing.assert_close(value, expected_value, **limits,
                                   msg=lambda message, name=name: f'{name}: {message}')


def assert_same_with_plain_ops(model: torch.nn.Module, inputs, tolerance: float = 1e-4,
                               seed: int = 0) -> set[str]:
    """Assert that ``model(*inputs)`` computes the same with the speed-up layer as under
    :func:`~mmvitx.models.layers.plain_ops`, in the model's current mode (train or eval).

    The model and a deep copy of it (taken first) run the same steps, one each way, with the same
    random draws: a forward without autograd, then one with autograd and a backward pass of a
    random projection of the outputs. Compared: both forwards' outputs (each to ``tolerance``
    times its largest magnitude), the gradients of the trainable parameters and of the inputs (to
    ``tolerance`` times the largest gradient), and the state dict afterwards (BatchNorm
    statistics; to ``tolerance``), each also to ``tolerance`` relative. Under plain ops no
    mmvitx autograd function may be in the graph. ``inputs``: a tensor or a tuple of them (the
    positional arguments). Parameter ``.grad`` attributes are left alone; the default tolerance
    leaves float32 rounding (about 3e-6 in small backbones) a wide margin.

    Returns:
        The names of the mmvitx autograd functions that the speed-up layer ran.
    """
    inputs = (inputs, ) if isinstance(inputs, torch.Tensor) else tuple(inputs)
    plain_model = copy.deepcopy(model)
    with plain_ops(False):
        fast = _run(model, inputs, seed)
    with plain_ops():
        plain = _run(plain_model, inputs, seed)
    assert not plain['functions'], f'ran under plain ops: {sorted(plain["functions"])}'
    for kind in ('inference', 'outputs'):
        assert len(fast[kind]) == len(plain[kind]), f'{kind}: another number of tensors'
        _assert_close({f'{kind}[{i}]': t for i, t in enumerate(fast[kind])},
                      {f'{kind}[{i}]': t for i, t in enumerate(plain[kind])}, tolerance)
    # One scale for all gradients: those that are zero but for rounding (a bias before a
    # BatchNorm) have no scale of their own.
    grad_scale = max((g.abs().max().item() for g in plain['grads'].values() if g is not None),
                     default=0.)
    _assert_close(fast['grads'], plain['grads'], tolerance, grad_scale)
    _assert_close(fast['state'], plain['state'], tolerance, scale=1.)
    return fast['functions']
