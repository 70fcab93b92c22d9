"""The service as ``toopher-server serve`` runs it, plus the benchmark's yardsticks: the
bare JSON view and the floor (``urls``). Their paths are stated here, where the load
generator (``bench_server``) can import them without setting Django up."""

#: A plain JSON answer that reads nothing.
BARE_PATH = "/bench/bare"
#: Only a verified read's two statements (``?id=`` an authentication request's id).
FLOOR_PATH = "/bench/floor"
