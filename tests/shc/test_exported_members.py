from __future__ import annotations

import vaxrec.shc


def test_public_surface_is_exactly_all() -> None:
    public = {name for name in dir(vaxrec.shc) if not name.startswith("_")}
    assert public == set(vaxrec.shc.__all__)
    for name in vaxrec.shc.__all__:
        member = getattr(vaxrec.shc, name)
        assert member.__module__.startswith("vaxrec.shc"), name
        assert member.__doc__, f"{name} has no docstring"
