"""Deployment: ONNX export of the backbones and of the toolbox models built on them
(:mod:`mmvitx.deploy.onnx`)."""
