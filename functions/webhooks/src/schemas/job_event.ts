/* Copied from contracts/schemas/job_event.json by `npm run -w functions/webhooks generate`: do not edit. */
export const schema = {
  "$defs": {
    "JobError": {
      "additionalProperties": false,
      "properties": {
        "code": {
          "maxLength": 64,
          "title": "Code",
          "type": "string"
        },
        "message": {
          "maxLength": 2000,
          "title": "Message",
          "type": "string"
        }
      },
      "required": [
        "code",
        "message"
      ],
      "title": "JobError",
      "type": "object"
    }
  },
  "$id": "job_event.json",
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "additionalProperties": false,
  "properties": {
    "at": {
      "format": "date-time",
      "title": "At",
      "type": "string"
    },
    "correlation_id": {
      "default": "",
      "title": "Correlation Id",
      "type": "string"
    },
    "error": {
      "anyOf": [
        {
          "$ref": "#/$defs/JobError"
        },
        {
          "type": "null"
        }
      ],
      "default": null
    },
    "job_id": {
      "format": "uuid",
      "title": "Job Id",
      "type": "string"
    },
    "note": {
      "default": "",
      "title": "Note",
      "type": "string"
    },
    "owner": {
      "description": "The owning user's id: the user model's primary key as a string (an integer in decimal, a UUID).",
      "title": "Owner",
      "type": "string"
    },
    "progress": {
      "maximum": 100,
      "minimum": 0,
      "title": "Progress",
      "type": "integer"
    },
    "result": {
      "default": null,
      "title": "Result"
    },
    "result_url": {
      "anyOf": [
        {
          "type": "string"
        },
        {
          "type": "null"
        }
      ],
      "default": null,
      "description": "Set instead of result when the result is too large to push.",
      "title": "Result Url"
    },
    "seq": {
      "minimum": 0,
      "title": "Seq",
      "type": "integer"
    },
    "status": {
      "enum": [
        "queued",
        "running",
        "succeeded",
        "failed",
        "cancelled"
      ],
      "title": "Status",
      "type": "string"
    },
    "task": {
      "title": "Task",
      "type": "string"
    },
    "type": {
      "enum": [
        "job.queued",
        "job.running",
        "job.progress",
        "job.succeeded",
        "job.failed",
        "job.cancelled"
      ],
      "title": "Type",
      "type": "string"
    },
    "v": {
      "const": 1,
      "default": 1,
      "title": "V",
      "type": "integer"
    }
  },
  "required": [
    "type",
    "job_id",
    "owner",
    "seq",
    "task",
    "status",
    "progress",
    "at"
  ],
  "title": "JobEvent",
  "type": "object"
} as const;
