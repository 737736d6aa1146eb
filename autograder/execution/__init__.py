"""Sandboxed execution of submissions: sandbox, student process (runner), test process (tester), their protocol, local and Dask backends."""
