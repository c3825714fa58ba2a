"""The images function's event handler: S3 ObjectCreated notifications delivered through SQS (which CloudFormation
can wire and which adds retries and a dead-letter queue). The same records reach the same pipeline from a Redis
list on the Swarm fallback and in the local run (worker.py)."""
import os

from chalice import Blueprint

events = Blueprint(__name__)


@events.on_sqs_message(queue=os.environ.get("IMAGES_QUEUE", "openmerce-images"), batch_size=5,
                       name="convert_images")
def convert_images(event):
    """S3 → SQS → here: convert every uploaded original to WebP."""
    from omcore import log

    from . import pipeline

    with log.scope(capability="images", request_id=log.event_id(event.context), job="convert_images"):
        return pipeline.handle_sqs_event(event.to_dict())  # each message in its own scope, named by its id


def register(app) -> None:
    app.register_blueprint(events)
