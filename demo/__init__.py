"""`make demo`: the sample data through every door of every function, on the embedded sandbox."""
