"""vaxrec shared runtime: settings, logging, bus, database, migrations, health, CLI."""
