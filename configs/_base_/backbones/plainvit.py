# The plain (one-resolution) ViT families, vit.py, deit.py, cait.py, deepvit.py, cpvt.py,
# localvit.py, convit.py, ceit.py, t2tvit.py, sovit.py and tnt.py: how they serve as dense
# backbones. A {family}.py sets the type and the no-decay
# keys, a {family}-{size}.py the arch, the drop path, the checkpoint and the blocks to output.
# Every output is a block's patch tokens as a stride-16 map; the class and distillation tokens
# never reach an output. Nothing is frozen.
# - `backbone`, for segmentation (mmseg's ViT + MultiLevelNeck UPerNet recipe, mmseg
#   configs/_base_/models/upernet_vit-b16_ln_mln.py): the class (and distillation) tokens stay
#   in the blocks as pretrained, the outputs are the last blocks of the four quarters of the depth
#   ((2, 5, 8, 11) of 12) without the final norm, and the position table is resized to the input.
# - `backbone_det`, ViTDet's (Li et al., "Exploring Plain Vision Transformer Backbones for Object
#   Detection", ECCV 2022; detectron2 projects/ViTDet): no class token, 14x14 window attention
#   except in the last block of each quarter (global), decomposed relative positions with the
#   global blocks' tables sized for 1024x1024 inputs (so detectron2's checkpoints load as they
#   are), and one output, the last block's map, from which SimpleFeaturePyramid builds strides 4
#   to 64.
# - `backbone_pose`, ViTPose's (Xu et al., "ViTPose", NeurIPS 2022; mmpose's ViTPose configs): no
#   class token, global attention (a 256x192 crop is 16x12 tokens) and one output, the last
#   block's map after the final LayerNorm.
backbone = dict(frozen_stages=-1, norm_eval=False, with_cp=False)
vitdet = dict(with_cls_token=False, window_size=14, use_rel_pos=True, rel_pos_img_size=1024)
vitpose = dict(with_cls_token=False, final_norm=True)
