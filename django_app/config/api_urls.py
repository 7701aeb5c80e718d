"""Everything under /api/."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from django_app.accounts import apis as account_apis
from django_app.accounts import schema as _schema  # noqa: F401 - registers the bearer scheme
from django_app.config.api_docs import ApiDocsAccess
from django_app.jobs import apis as job_apis

urlpatterns = [
    path("tasks/", job_apis.TaskListApi.as_view(), name="task-list"),
    path("jobs/", job_apis.JobListCreateApi.as_view(), name="job-list"),
    path("jobs/<uuid:job_id>/", job_apis.JobDetailApi.as_view(), name="job-detail"),
    path("jobs/<uuid:job_id>/cancel/", job_apis.JobCancelApi.as_view(), name="job-cancel"),
    path("jobs/<uuid:job_id>/retry/", job_apis.JobRetryApi.as_view(), name="job-retry"),
    path("ws/tickets/", account_apis.TicketCreateApi.as_view(), name="ws-ticket"),
    path("ws/grants/", account_apis.GrantCreateApi.as_view(), name="ws-grant"),
    path("auth/token/", account_apis.TokenExchangeApi.as_view(), name="auth-token"),
    path("auth/introspect/", account_apis.IntrospectApi.as_view(), name="introspect"),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[ApiDocsAccess]), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", permission_classes=[ApiDocsAccess]),
        name="swagger-ui",
    ),
]
