"""The MDS Chalice app: creates ``app`` and registers blueprints and event handlers, nothing else."""

from chalice import Chalice

from chalicelib.api.client import client
from chalicelib.api.config import config
from chalicelib.api.console import console
from chalicelib.api.delivery import delivery
from chalicelib.api.downloads import downloads
from chalicelib.api.file_upload import file_upload
from chalicelib.api.h5 import h5
from chalicelib.api.health import health
from chalicelib.api.hotpatch import hotpatch
from chalicelib.api.openapi import openapi
from chalicelib.api.preview import preview
from chalicelib.api.targeting import targeting
from chalicelib.api.upgrade import upgrade
from chalicelib.config import device_events_queue_name, events_queue_name, publish_queue_name
from chalicelib.events import handlers

app = Chalice(app_name="mds")
app.register_blueprint(health)
app.register_blueprint(client)
app.register_blueprint(console)
app.register_blueprint(delivery)
app.register_blueprint(openapi)
app.register_blueprint(targeting)
app.register_blueprint(upgrade)
app.register_blueprint(h5)
app.register_blueprint(hotpatch)
app.register_blueprint(config)
app.register_blueprint(downloads)
app.register_blueprint(file_upload)
# The OpenAPI upload host takes OSS PostObject-style forms: API Gateway must pass them as bytes.
app.api.binary_types.append("multipart/form-data")
app.register_blueprint(preview)

# S3 ObjectCreated (uploads/) -> SQS -> here. infra/template.json declares the notification;
# Chalice's CloudFormation packaging cannot express @app.on_s3_event.
# Lambda resolves handlers as "app.<name>", so each one is bound to a module-level name here.
on_upload_event = app.on_sqs_message(queue=events_queue_name(), batch_size=1)(handlers.on_upload_event)
# POST /client/v1/events -> SQS -> here: device events counted into reach (docs/events.md).
on_device_events = app.on_sqs_message(queue=device_events_queue_name(), batch_size=10)(
    handlers.on_device_events
)
# A committed change -> SQS -> here: the manifests it affects are published (services/publishing.py).
on_publish = app.on_sqs_message(queue=publish_queue_name(), batch_size=10)(handlers.on_publish)
housekeeping = app.schedule("rate(1 minute)", name="housekeeping")(handlers.housekeeping)
reconcile = app.schedule("rate(1 minute)", name="reconcile")(handlers.reconcile)
