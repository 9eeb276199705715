# The streaming OpenAPI upload host (mds/upload_host.py) as the container infra/template.json runs on
# ECS Fargate when UploadHostImage is set. Build from the repository root and push to ECR:
#   docker build -f infra/upload-host.Dockerfile -t <account>.dkr.ecr.<region>.amazonaws.com/mds-upload-host:<tag> .
#   docker push <that tag>
# It needs the Lambda code's runtime dependencies (requirements.txt) plus what Lambda provides (boto3) and
# the form helpers' chalice import, pinned as in requirements-dev.txt; the CLI's are not installed.
FROM public.ecr.aws/docker/library/python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt boto3==1.44.8 chalice==1.34.0
COPY chalicelib chalicelib
COPY mds/__init__.py mds/upload_host.py mds/
USER nobody
EXPOSE 8080
CMD ["python", "-m", "mds.upload_host", "--host", "0.0.0.0", "--port", "8080"]
