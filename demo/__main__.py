"""`python -m demo` (`make demo`)."""

from demo.play import main

main()
