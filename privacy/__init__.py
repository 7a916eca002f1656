if __name__ != "clearhouse.privacy":  # one module, one name: the folder is installed as clearhouse.privacy
    raise ImportError("import clearhouse.privacy; the privacy/ folder is not a top-level package")

