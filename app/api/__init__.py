"""Everything that knows HTTP: controllers, guards, schemas, problems, the OpenAPI document."""
