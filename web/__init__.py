"""What a person sees: templates, static ES modules and CSS, and the views that feed them."""
