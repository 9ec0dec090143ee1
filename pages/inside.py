"""Inside the model page (planned): feature maps, kernels, confusion matrix, saliency."""

from app.layout import coming_soon

coming_soon("Inside the model", "Look at feature maps, learned kernels, the confusion matrix and saliency maps.")
