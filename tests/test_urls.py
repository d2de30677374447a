

def test_relative_links_are_what_posixpath_relpath_gives_for_every_shape_of_path():
    """urls.relative works on strings (no working folder); it must agree with posixpath.relpath."""
    import itertools
    import posixpath

    from sitegen import urls

    paths = ["index.html", "a.html", "doctors/a.html", "doctors/index.html", "doctors/b/c.html", "doctors/",
             "departments/x.html", "assets/css/site.css", "a/b/c/d.html", "./a.html", "doctors//a.html",
             "news/2026-10-01-open.html", "data/index.html", "x", "doctors", "doctors/b/"]
    for src, dst in itertools.product(paths, paths):
        start = posixpath.dirname(src) or "."
        assert urls.relative(src, dst) == posixpath.relpath(dst, start), (src, dst)
