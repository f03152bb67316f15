import random

from celery import shared_task
from django.conf import settings

from .models import WebhookDelivery
from .services import webhook_attempt

MAX_ATTEMPTS = 8


@shared_task(bind=True, max_retries=MAX_ATTEMPTS - 1, acks_late=True)
def deliver_webhook(self, delivery_id: int) -> bool:
    """Send one webhook delivery, retrying with growing pauses (about 2 hours in all)."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    # The row is the truth: a delivery already done (a redelivered task) is not sent again.
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return False
    final = self.request.retries >= self.max_retries
    if webhook_attempt(delivery=delivery, final=final):
        return True
    if final or self.request.is_eager:
        # Without a broker (development) a retry would block the request that caused the event.
        return False
    pause = min(3600, settings.WEBHOOK_RETRY_BASE_SECONDS * 2**self.request.retries)
    # Jitter, so deliveries that failed together (a receiver's outage) do not retry in lockstep.
    countdown = pause * random.uniform(0.8, 1.2)
    raise self.retry(countdown=countdown)
