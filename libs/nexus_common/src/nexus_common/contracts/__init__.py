"""Wire contracts between Nexus services (pydantic models of the JSON they exchange over HTTP).

Services never import each other; they share these schemas so both ends validate the same shape.
"""
