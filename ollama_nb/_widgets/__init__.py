"""Jupyter widgets: ChatWidget (chat.py) and ModelBrowser (models.py), anywidgets whose built front
ends live in static/."""
