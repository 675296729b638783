"""Settings: embedded defaults, each overridable by an environment variable of the same name."""
