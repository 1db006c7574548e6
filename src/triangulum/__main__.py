from triangulum.cli import main

raise SystemExit(main())
