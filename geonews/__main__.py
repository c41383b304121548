from geonews.cli import main

raise SystemExit(main())
