"""The `presswatch` command line: a thin shell over the application."""
