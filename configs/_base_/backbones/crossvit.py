# CrossViT (Chen, Fan, Panda, "CrossViT: Cross-Attention Multi-Scale Vision Transformer for Image
# Classification", ICCV 2021): what every size shares. crossvit-{size}.py adds the arch, the drop
# path, the checkpoint and the neck. No dense-prediction setting is published; these follow the
# plain-ViT recipes (plainvit.py), with one difference, the neck:
# - The backbone outputs both branches' patch tokens after the last encoder (out_indices (0, 1)):
#   the S-branch's map at stride 12 and the L-branch's at stride 16 of the input resized by 224/240
#   (16 x 240 / 224 in the input). MultiBranchFeaturePyramid (`pyramid`) resamples both to each
#   level's stride and sums them, in place of the recipes' SimpleFeaturePyramid (detection) and
#   MultiLevelNeck (segmentation), and gives ViTPose's head one stride-16 map (pose).
# - The class tokens stay in the blocks (they are the only path between the branches) and attend
#   globally: no window attention (ViTDet's windows would need the class tokens dropped).
# - No weight decay on the position tables and class tokens, as in CrossViT's training. Nothing
#   frozen.
backbone = dict(type='mmvitx.CrossViT', out_indices=(0, 1), frozen_stages=-1, norm_eval=False,
                with_cp=False)
backbone_no_decay = {key: dict(decay_mult=0.0) for key in ('pos_embed', 'cls_token')}
