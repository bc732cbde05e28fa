import sys

from cantata.cli import main

sys.exit(main())
