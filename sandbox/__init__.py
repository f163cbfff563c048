"""Local stand-ins for what Courier talks to: moto for AWS, and strict emulators of the two destination APIs."""
