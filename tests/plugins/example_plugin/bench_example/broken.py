"""A plugin that fails to import, to show that it cannot take the others down."""

import a_module_that_does_not_exist  # noqa: F401
