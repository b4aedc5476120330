"""adjit.scipy: SciPy's spelling of adjit's rows (SciPy does not dispatch to other array types): `import adjit.scipy.special`, `adjit.scipy.stats`, `adjit.scipy.linalg`."""
