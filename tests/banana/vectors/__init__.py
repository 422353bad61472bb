"""Golden Banana vectors made by Foolscap 24.9, and the tools to rebuild and compare them."""
