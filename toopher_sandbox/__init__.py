"""toopher_sandbox: a local emulator of the Toopher service."""
