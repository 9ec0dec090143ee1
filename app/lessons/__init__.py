"""The Lessons page's glue: step links built by each page's own code, progress in the workspace, the step panel."""
