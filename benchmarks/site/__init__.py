"""A minimal Django site for the benchmarks, with or without django_toopher.

One settings module, two apps: ``BENCH_TOOPHER=1`` (the default) installs
django_toopher (app, middleware, URLs); ``BENCH_TOOPHER=0`` leaves it out, so the
middleware ratio compares the same project with and without it.
"""
