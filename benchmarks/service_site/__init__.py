"""The service as ``toopher-server serve`` runs it, plus the benchmark's bare JSON view."""
