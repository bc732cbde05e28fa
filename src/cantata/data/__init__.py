"""Training material: manifests, labels, synthesis, loaders, on-the-fly mixing."""
