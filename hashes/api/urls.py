from django.urls import path

from . import native, stopncii

stopncii_urlpatterns = [
    path("FetchHashes", stopncii.FetchHashes.as_view(), name="stopncii-fetch"),
    path("SubmitFeedback", stopncii.SubmitFeedback.as_view(), name="stopncii-feedback"),
    path("SubmitHashes", stopncii.SubmitHashes.as_view(), name="stopncii-submit"),
]

native_urlpatterns = [
    path("hashes/", native.HashFeed.as_view(), name="api-hash-feed"),
    path("hashes/<int:record_id>/", native.HashDetail.as_view(), name="api-hash-detail"),
    path("feedback/", native.FeedbackView.as_view(), name="api-feedback"),
    path("lookup/", native.LookupView.as_view(), name="api-lookup"),
    path("lookups/", native.BatchLookupView.as_view(), name="api-lookups"),
]
