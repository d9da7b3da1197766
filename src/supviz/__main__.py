import sys

from supviz.cli import main

sys.exit(main())
