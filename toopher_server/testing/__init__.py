"""Test helpers of toopher_server: a device that signs like the authenticator app, and a
phone that enrols and answers with it over HTTP (no Django import)."""

from toopher_server.testing.device import DeviceAuth, DeviceKey, SignedDevice
from toopher_server.testing.phone import DeviceCallError, TestPhone

__all__ = ["DeviceAuth", "DeviceCallError", "DeviceKey", "SignedDevice", "TestPhone"]
