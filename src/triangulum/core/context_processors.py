from triangulum import __version__


def triangulum(request):
    return {"triangulum_version": __version__}
