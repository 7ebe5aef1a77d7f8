"""`python -m chaos` (and `make chaos`)."""

if __name__ == "__main__":
    from chaos.cli import main

    raise SystemExit(main())
