"""Board bundles: compiles flight, hal and protocols to .mpy with mpy-cross."""
