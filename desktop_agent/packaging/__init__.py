"""How the app is packaged: the frozen (PyInstaller) entry point and the desktop entry."""
