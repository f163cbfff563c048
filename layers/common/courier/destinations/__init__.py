"""The destination endpoints: each declares its fields, batch limits, request building and answer reading
(the shared types are in courier.model)."""
