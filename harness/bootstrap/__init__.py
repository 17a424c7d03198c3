"""Environment bootstrap: container engine, base image, images, cleanup."""
