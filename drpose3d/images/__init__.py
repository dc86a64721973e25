"""Images of the samples: the renderer, rendered image sets and the image augmentation of Sec. 4.2."""
