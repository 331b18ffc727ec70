"""A training step of an mmvitx backbone against its reference implementation: the same weights
(through the converter) must give the same parameter gradients and BatchNorm statistics. This
checks mmvitx's own backward passes (``mmvitx.models.layers.recompute``) in whole networks.

Both run in float64: with random weights a float32 step is chaotic enough that rounding alone
(e.g. torch's channels-last BatchNorm kernels, which sum in float32 in one pass) moves some
gradients by 1e-3 of the largest, which would hide a wrong formula; in float64 a correct one
agrees to about 1e-12 (FasterViT: 1e-8, both implementations derive the continuous position
bias's log-spaced coordinates in float32).
"""
import copy

import torch


def assert_training_step_matches(model, reference, converter, run_model, run_reference, inputs,
                                 tolerance=1e-9):
    """``run_model(model, inputs)`` and ``run_reference(reference, inputs)`` return the outputs
    to compare (in the same order); a random projection of them is back-propagated in both, then
    every parameter gradient and BatchNorm running statistic that the converter maps must match
    to ``tolerance`` times the largest value of its kind."""
    model, reference = copy.deepcopy(model).double().train(), copy.deepcopy(reference).double()
    reference.train()  # mmpose's train() returns None: no chaining
    inputs = inputs.double()
    outputs, reference_outputs = run_model(model, inputs), run_reference(reference, inputs)
    generator = torch.Generator().manual_seed(2)
    loss = reference_loss = 0
    for out, ref_out in zip(outputs, reference_outputs, strict=True):
        torch.testing.assert_close(out, ref_out, atol=tolerance * ref_out.abs().max().item(),
                                   rtol=0)
        weights = torch.randn(ref_out.shape, generator=generator, dtype=torch.float64)
        loss = loss + (out * weights).sum()
        reference_loss = reference_loss + (ref_out * weights).sum()
    loss.backward()
    reference_loss.backward()
    expected = converter({name: param.grad for name, param in reference.named_parameters()
                          if param.grad is not None})
    grads = {name: param.grad for name, param in model.named_parameters()}
    assert len(expected) > 50
    scale = max(grad.abs().max().item() for grad in expected.values())
    for name, grad in expected.items():
        torch.testing.assert_close(grads[name], grad, atol=tolerance * scale, rtol=0, msg=name)
    stats = converter({name: value for name, value in reference.state_dict().items()
                       if name.endswith(('running_mean', 'running_var'))})
    state = model.state_dict()
    for name, value in stats.items():
        torch.testing.assert_close(state[name], value, atol=tolerance, rtol=tolerance, msg=name)
