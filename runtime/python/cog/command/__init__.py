"""Commands the ``cog`` CLI runs under Python: ``python3 -m cog.command.<name>``.

``openapi_schema`` prints a runner's OpenAPI document, either by importing the model (inside an
image) or statically (``--static``, at build time on the host: no model code runs and none of
the model's dependencies need to be installed).
"""
