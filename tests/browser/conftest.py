"""Browser tests run only through `make browser-test`; see test_jupyterlab.py."""
