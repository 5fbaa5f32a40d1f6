"""The built-in plugins, registered through the `bench` entry-point group like any other."""
