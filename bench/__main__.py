"""`python -m bench` (and `make bench`)."""

if __name__ == "__main__":
    # Imported here so that client processes started with "spawn" never load the services.
    from bench.parts import main

    raise SystemExit(main())
