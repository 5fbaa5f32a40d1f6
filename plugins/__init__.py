"""The built-in plugins, registered through the `lowres_bench` entry-point group like any other."""
