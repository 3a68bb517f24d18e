"""Float64 guard: the engine needs JAX's 64-bit mode and never switches it on by itself."""

import jax

__all__ = ["X64_LINE", "require_x64"]

X64_LINE = 'jax.config.update("jax_enable_x64", True)'
"""The one line to run (once, before the first engine call) to enable float64."""


def require_x64() -> None:
    """Raise RuntimeError unless JAX's 64-bit mode is on (checked when tracing).

    Raises
    ------
    RuntimeError
        Naming the line to add. The integrals and their gradients lose 6-7 digits in
        float32; importing the package never changes JAX's global configuration.
    """
    if not jax.config.jax_enable_x64:
        raise RuntimeError(
            "cobaya_szlite needs float64: add `import jax; " + X64_LINE + "` before the "
            "first engine call (SZTheory does this when Cobaya loads it)"
        )
