import sys

from alignnet.cli import main

sys.exit(main())
